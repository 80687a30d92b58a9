package api

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/kiosko/kiosko"
)

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	for path := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/api/v1/") {
			t.Errorf("path %s is outside /api/v1/", path)
		}
	}
}

// registeredRoutes reads this package's Go files (tests excepted) and
// returns every "METHOD /api/v1/..." pattern given to Handle or
// HandleFunc.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			p, err := strconv.Unquote(lit.Value)
			if err == nil && strings.Contains(p, " /api/v1/") {
				out = append(out, p)
			}
			return true
		})
	}
	return out
}

// TestEveryRouteIsDocumented fails when a route is registered in this
// package without an operation in openapi.json.
func TestEveryRouteIsDocumented(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := registeredRoutes(t)
	if len(routes) < 12 {
		t.Fatalf("found only %d routes: the scan is broken (%v)", len(routes), routes)
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %q is registered but not in openapi.json", r)
		}
	}
}

// validator checks real requests and answers against the document.
type validator struct {
	t      *testing.T
	router routers.Router
	seen   map[string]bool // "METHOD path STATUS" validated
}

func newValidator(t *testing.T) *validator {
	doc := loadOpenAPI(t)
	doc.Servers = nil // match any host
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{t: t, router: r, seen: map[string]bool{}}
}

// do sends c through e and validates the request and the answer.
func (v *validator) do(e *env, c call, status int) response {
	v.t.Helper()
	req, err := e.request(c)
	if err != nil {
		v.t.Fatal(err)
	}
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		v.t.Fatalf("%s %s: not in openapi.json: %v", c.method, c.path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	// Requests the tests send on purpose malformed are checked by the
	// answer only.
	if status < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			v.t.Errorf("%s %s: the request does not match openapi.json: %v", c.method, c.path, err)
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	res, err := e.srv.Client().Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != status {
		v.t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, res.StatusCode, status, body)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: opts}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		v.t.Errorf("%s %s → %d: the answer does not match openapi.json: %v\n%s", c.method, c.path, res.StatusCode, err, body)
	}
	v.seen[route.Method+" "+route.Path] = true
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// TestRealAnswersMatchTheDocument drives every route of this branch with
// real requests (answers of success and of failure) and validates each
// request and answer with kin-openapi.
func TestRealAnswersMatchTheDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withEntitlements(t), withNewsroom)
	v := newValidator(t)
	cms := newsroomKey(t, e, kiosko.ScopeNewsroom)
	phone := e.signIn(t, "digital@kiosko.test", "Phone")
	laptop := e.signIn(t, "digital@kiosko.test", "Laptop")
	free := e.signIn(t, "free@kiosko.test", "Free")
	json := map[string]string{"Content-Type": "application/json"}

	v.do(e, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "digital@kiosko.test", "password": "kiosko-demo-2026", "device_name": "Tablet"}}, 201)
	v.do(e, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "digital@kiosko.test", "password": "not the password"}}, 401)
	v.do(e, call{method: "POST", path: "/api/v1/sessions", body: "{", header: json}, 400)
	v.do(e, call{method: "GET", path: "/api/v1/articles?edition=us"}, 200)
	v.do(e, call{method: "GET", path: "/api/v1/articles?edition=nowhere"}, 404)
	v.do(e, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim(subscriberArticle)}, 200)
	v.do(e, call{method: "POST", path: "/api/v1/reading/claim", token: laptop.token, body: claim(subscriberArticle)}, 409)
	v.do(e, call{method: "POST", path: "/api/v1/reading/claim", token: free.token, body: claim(subscriberArticle)}, 402)
	v.do(e, call{method: "POST", path: "/api/v1/reading/claim", body: claim(subscriberArticle)}, 401)
	v.do(e, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim("no-such-article")}, 404)
	v.do(e, call{method: "POST", path: "/api/v1/reading/heartbeat", token: phone.token, body: map[string]any{"article": subscriberArticle, "active": true}}, 200)
	v.do(e, call{method: "POST", path: "/api/v1/reading/takeover", token: laptop.token, body: claim(subscriberArticle)}, 200)
	v.do(e, call{method: "POST", path: "/api/v1/reading/heartbeat", token: phone.token, body: map[string]any{}}, 409)
	v.do(e, call{method: "POST", path: "/api/v1/reading/presence", token: phone.token, body: map[string]any{"present": true}}, 200)
	v.do(e, call{method: "POST", path: "/api/v1/reading/presence", token: phone.token, body: map[string]any{}}, 400)
	v.do(e, call{method: "GET", path: "/api/v1/devices", token: phone.token}, 200)
	v.do(e, call{method: "DELETE", path: "/api/v1/devices/" + laptop.id, token: phone.token, body: map[string]string{"current_password": "wrong one"}}, 403)
	v.do(e, call{method: "DELETE", path: "/api/v1/devices/" + laptop.id, token: phone.token, body: map[string]string{"current_password": "kiosko-demo-2026"}}, 204)
	v.do(e, call{method: "POST", path: "/api/v1/account/password", token: free.token, body: map[string]string{"current_password": "wrong one", "new_password": "a much longer new password"}}, 403)
	v.do(e, call{method: "GET", path: "/api/v1/openapi.json"}, 200)
	story := map[string]any{"edition": "us", "title": "Pushed", "dek": "A dek.", "body_markdown": "Text *here*.", "authors": []string{"Desk"}, "access": "open"}
	v.do(e, call{method: "PUT", path: "/api/v1/newsroom/articles/us-pushed", token: cms, body: story}, 201)
	v.do(e, call{method: "PUT", path: "/api/v1/newsroom/articles/us-pushed", token: cms, body: story}, 200)
	v.do(e, call{method: "PUT", path: "/api/v1/newsroom/articles/us-pushed", token: cms, body: map[string]any{"edition": "us", "access": "open"}}, 400)
	v.do(e, call{method: "PUT", path: "/api/v1/newsroom/articles/us-pushed", body: story}, 401)
	v.do(e, call{method: "PUT", path: "/api/v1/newsroom/articles/us-pushed", token: free.token, body: story}, 403)
	v.do(e, call{method: "GET", path: "/api/v1/newsroom/articles/us-pushed", token: cms}, 200)
	v.do(e, call{method: "GET", path: "/api/v1/newsroom/articles/nothing", token: cms}, 404)
	v.do(e, call{method: "GET", path: "/api/v1/articles/us-pushed"}, 200)
	v.do(e, call{method: "GET", path: "/api/v1/articles/" + subscriberArticle}, 200)
	v.do(e, call{method: "DELETE", path: "/api/v1/newsroom/articles/us-pushed", token: cms}, 204)
	v.do(e, call{method: "GET", path: "/api/v1/articles/us-pushed"}, 410)
	v.do(e, call{method: "GET", path: "/api/v1/articles/nothing"}, 404)
	v.do(e, call{method: "DELETE", path: "/api/v1/sessions/current", token: phone.token}, 204)
	v.do(e, call{method: "GET", path: "/api/v1/devices", token: phone.token}, 401)

	// The newsroom's routes, with its API keys.
	n, key, hooksKey := newsroomEnv(t)
	article := map[string]any{"edition": "us", "title": "Checked against the document", "dek": "One line.", "body_markdown": "Some **text**.",
		"authors": []string{"Sam Lee"}, "section": "City", "access": "free"}
	path := "/api/v1/newsroom/articles/us-openapi-check"
	v.do(n, call{method: "PUT", path: path, token: key, body: article}, 201)
	v.do(n, call{method: "PUT", path: path, token: key, body: article}, 200)
	v.do(n, call{method: "PUT", path: path, token: hooksKey, body: article}, 403)
	v.do(n, call{method: "GET", path: path, token: key}, 200)
	v.do(n, call{method: "GET", path: "/api/v1/articles/us-openapi-check"}, 200)
	v.do(n, call{method: "GET", path: "/api/v1/articles/" + subscriberArticle}, 200)
	v.do(n, call{method: "DELETE", path: path, token: key}, 204)
	v.do(n, call{method: "GET", path: "/api/v1/articles/us-openapi-check"}, 410)
	v.do(n, call{method: "GET", path: path}, 401)

	// Webhook endpoints, with the webhooks key only.
	hook := map[string]any{"url": "https://93.184.215.14/hooks", "events": []string{"seat.added"}}
	r := v.do(n, call{method: "POST", path: "/api/v1/webhooks", token: hooksKey, body: hook}, 201)
	if sec, _ := r.json(t)["secret"].(string); !strings.HasPrefix(sec, "whsec_") {
		t.Errorf("POST /api/v1/webhooks: no secret in %s", r.body)
	}
	v.do(n, call{method: "POST", path: "/api/v1/webhooks", token: key, body: hook}, 403)
	v.do(n, call{method: "POST", path: "/api/v1/webhooks", token: hooksKey, body: map[string]any{"url": "http://127.0.0.1:9/x"}}, 400)
	v.do(n, call{method: "POST", path: "/api/v1/webhooks", token: hooksKey, body: map[string]any{"url": "https://93.184.215.14/", "events": []string{"nope"}}}, 400)
	r = v.do(n, call{method: "GET", path: "/api/v1/webhooks", token: hooksKey}, 200)
	if strings.Contains(string(r.body), "whsec_") {
		t.Errorf("the list shows secrets: %s", r.body)
	}
	v.do(n, call{method: "GET", path: "/api/v1/webhooks", token: key}, 403)
	v.do(n, call{method: "DELETE", path: "/api/v1/webhooks/1", token: hooksKey}, 204)
	v.do(n, call{method: "DELETE", path: "/api/v1/webhooks/1", token: hooksKey}, 404)

	// The reader's own account, sign-up to deletion (account_test.go).
	checkAccountRoutes(t, v)

	for _, r := range registeredRoutes(t) {
		method, path, _ := strings.Cut(r, " ")
		switch path {
		case "/api/v1/reading/events", "/api/v1/newsletter/subscriptions":
			continue // a stream, and a route that needs a mailer: their own tests
		}
		if !v.seen[method+" "+path] {
			t.Errorf("route %s has no real answer validated here", r)
		}
	}
}

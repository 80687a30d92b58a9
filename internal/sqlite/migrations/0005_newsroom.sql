-- 0005: the newsroom. Articles gain the fields editors write (authors,
-- section, a Markdown body rendered to sanitized HTML, a lead image),
-- a status and a revision counter; every save keeps a revision. Editions
-- gain a newsletter day; lead images are stored here so every node serves
-- them; API keys (hashed) let a CMS push articles.
--
-- Today's articles are carried over unchanged: each paragraph becomes a
-- Markdown paragraph (punctuation Markdown would read is escaped, as
-- kiosko.ParagraphsBody does) and its HTML the same <p> text, author
-- becomes the one author, access is kept (free stays metered), and each is
-- published with revision 1.

ALTER TABLE articles ADD COLUMN authors       TEXT    NOT NULL DEFAULT '[]'; -- JSON array of names
ALTER TABLE articles ADD COLUMN section       TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN body_markdown TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN body_html     TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN image         TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN image_alt     TEXT    NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN status        TEXT    NOT NULL DEFAULT 'published';
ALTER TABLE articles ADD COLUMN updated_at    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN revision      INTEGER NOT NULL DEFAULT 1;

UPDATE articles SET
	authors = CASE WHEN author = '' THEN '[]' ELSE json_array(author) END,
	updated_at = published_at,
	body_markdown = COALESCE((
		SELECT group_concat(CASE WHEN s GLOB '[-+=]*' THEN '\' || s
			WHEN s GLOB '[0-9][.)]*' THEN substr(s, 1, 1) || '\' || substr(s, 2)
			WHEN s GLOB '[0-9][0-9][.)]*' THEN substr(s, 1, 2) || '\' || substr(s, 3)
			WHEN s GLOB '[0-9][0-9][0-9][.)]*' THEN substr(s, 1, 3) || '\' || substr(s, 4)
			WHEN s GLOB '[0-9][0-9][0-9][0-9][.)]*' THEN substr(s, 1, 4) || '\' || substr(s, 5) ELSE s END, char(10) || char(10) ORDER BY key)
		FROM (SELECT key, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(ltrim(value, ' ' || char(9)), '\', '\\'), '*', '\*'), '_', '\_'), '`', '\`'), '[', '\['), ']', '\]'), '<', '\<'), '>', '\>'), '#', '\#'), '&', '\&'), '!', '\!'), '|', '\|'), '~', '\~') AS s FROM json_each(articles.body))
	), ''),
	body_html = COALESCE((
		SELECT group_concat('<p>' || replace(replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '''', '&#39;'), '"', '&#34;') || '</p>' || char(10), '' ORDER BY key)
		FROM json_each(articles.body)
	), '');

ALTER TABLE articles DROP COLUMN author;
ALTER TABLE articles DROP COLUMN body;
CREATE INDEX articles_status ON articles (status, published_at);

CREATE TABLE article_revisions (
	article_id    TEXT    NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	number        INTEGER NOT NULL,
	saved_at      INTEGER NOT NULL,
	saved_by      TEXT    NOT NULL DEFAULT '',
	edition       TEXT    NOT NULL,
	title         TEXT    NOT NULL,
	standfirst    TEXT    NOT NULL,
	authors       TEXT    NOT NULL,
	section       TEXT    NOT NULL,
	access        TEXT    NOT NULL,
	body_markdown TEXT    NOT NULL,
	body_html     TEXT    NOT NULL,
	image         TEXT    NOT NULL,
	image_alt     TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	published_at  INTEGER NOT NULL,
	PRIMARY KEY (article_id, number)
);

INSERT INTO article_revisions (article_id, number, saved_at, saved_by, edition, title, standfirst, authors, section,
	access, body_markdown, body_html, image, image_alt, status, published_at)
SELECT id, 1, published_at, '', edition, title, standfirst, authors, section,
	access, body_markdown, body_html, image, image_alt, status, published_at FROM articles;

ALTER TABLE editions ADD COLUMN newsletter_day TEXT NOT NULL DEFAULT ''; -- weekday; '' the server's setting

-- An uploaded image and its resized copies, each a whole file.
CREATE TABLE article_images (
	id         TEXT    PRIMARY KEY,
	width      INTEGER NOT NULL,
	height     INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE article_image_files (
	image_id     TEXT    NOT NULL REFERENCES article_images (id) ON DELETE CASCADE,
	width        INTEGER NOT NULL,
	content_type TEXT    NOT NULL,
	data         BLOB    NOT NULL,
	PRIMARY KEY (image_id, width)
);

-- Keys for servers (a CMS, a publisher's backend): only a hash is kept.
CREATE TABLE api_keys (
	id           INTEGER PRIMARY KEY,
	name         TEXT    NOT NULL,
	prefix       TEXT    NOT NULL,
	hash         TEXT    NOT NULL UNIQUE,
	scopes       TEXT    NOT NULL, -- comma-separated
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
);

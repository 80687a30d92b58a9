package main

import (
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.Reading.LeaseTTL != 90*time.Second || cfg.Reading.SharingWindow != 168*time.Hour || !cfg.SeedDemo {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestConfigEnvAndFlags(t *testing.T) {
	t.Setenv("KIOSKO_LEASE_TTL", "2m")
	t.Setenv("KIOSKO_ADDR", "127.0.0.1:9000")
	cfg, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--addr", "127.0.0.1:9001"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Reading.LeaseTTL != 2*time.Minute {
		t.Errorf("env KIOSKO_LEASE_TTL ignored: %s", cfg.Reading.LeaseTTL)
	}
	if cfg.Addr != "127.0.0.1:9001" {
		t.Errorf("the flag should win over the env: %s", cfg.Addr)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lease-ttl", "ninety"}, "lease-ttl"},
		{[]string{"--sharing-takeovers", "0"}, "sharing-takeovers"},
		{[]string{"--addr", "nohost"}, "addr"},
		{[]string{"--database-url", "mysql://x"}, "database-url"},
		{[]string{"--heartbeat-every", "2m"}, "KIOSKO_HEARTBEAT_EVERY"},
		{[]string{"--public-url", "ftp://x"}, "public-url"},
		{[]string{"--seed-demo=maybe"}, "seed-demo"},
		{[]string{"--secret", "short"}, "secret"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		_, err := parseConfig(fs, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "short") && tc.want == "secret" && !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("secret not redacted in %v", err)
		}
	}
}

// TestREADMEListsEverySetting keeps the README's configuration table true.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings() {
		row := "| --" + s.flag + " | " + s.env + " |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row for --%s / %s", s.flag, s.env)
		}
	}
}

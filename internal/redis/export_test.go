package redis

// ClaimScriptSHA lets benchmarks pipeline the claim script with EVALSHA.
func ClaimScriptSHA() string { return claimScript.Hash() }

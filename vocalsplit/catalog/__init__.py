"""Model manifests: find, validate (schema + sha256), list."""

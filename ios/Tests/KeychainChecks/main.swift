// Runs KeychainTokenStore's logic through its public API against the stub Security
// module's in-memory Keychain (scripts/swift-keychain-checks.sh). Exits non-zero naming
// each failing check.
readAndWriteChecks()
lockAndFailureChecks()
sharingChecks()
finish()

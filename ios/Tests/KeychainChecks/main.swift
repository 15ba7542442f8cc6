// Runs KeychainTokenStore's and SecureEnclaveDpopKey's logic through their public API
// (the DPoP key also against the auth server) against the stub Security
// module's in-memory Keychain (scripts/swift-keychain-checks.sh). Exits non-zero naming
// each failing check. Also ios/Bridges/AppAuth against the stub AppAuthCore.
readAndWriteChecks()
lockAndFailureChecks()
sharingChecks()
dpopKeyChecks()
appAuthChecks()
finish()

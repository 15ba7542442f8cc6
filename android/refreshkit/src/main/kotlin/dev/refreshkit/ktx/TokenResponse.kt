package dev.refreshkit.ktx

import dev.refreshkit.SessionException
import dev.refreshkit.Tokens
import dev.refreshkit.tokensFromTokenResponse

/**
 * The tokens of a token endpoint's success answer (RFC 6749 section 5.1), as your own
 * login received it: `access_token`, `refresh_token`, `expires_in` (counted from now, so
 * call this when the answer arrives), `id_token`, `scope`, `token_type`. Hand them to
 * `signIn`.
 *
 * @throws SessionException.InvalidResponse when [json] is not a token response; the
 * message never contains a token.
 */
@Throws(SessionException::class)
fun Tokens.Companion.fromTokenResponse(json: String): Tokens = tokensFromTokenResponse(json.encodeToByteArray())

/** [fromTokenResponse] for the answer's bytes as received. */
@Throws(SessionException::class)
fun Tokens.Companion.fromTokenResponse(json: ByteArray): Tokens = tokensFromTokenResponse(json)

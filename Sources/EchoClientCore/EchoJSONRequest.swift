/// The body of `POST /echo`.
struct EchoJSONRequest: Decodable {
  /// The message to echo.
  var message: String
}

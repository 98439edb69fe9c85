"""Gateway: the one public door. Authenticates users, forwards the API to the service that owns
each path, serves one OpenAPI document, the live stream and the web client. It keeps no booking
data: only its users."""

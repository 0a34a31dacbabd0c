"""How claims leave: one module per channel (api, email, file), the transport that sends, the factory."""

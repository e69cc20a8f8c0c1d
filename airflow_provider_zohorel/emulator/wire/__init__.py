"""The emulator's wire format (moto's "responses"): decoding requests, encoding Zoho's envelopes,
errors and statuses. Handlers here ask the model and never keep state of their own."""

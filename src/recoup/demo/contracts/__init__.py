"""The demo's bundled carrier contracts: fictional negotiated terms modelled on the carriers'
published ones, with their rate cards (CSV) and delivery-area lists (TXT). Package data, read by
:mod:`recoup.demo.generate` and copied next to the demo's database."""

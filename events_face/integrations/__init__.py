"""The upstream services, one folder each (client, emulator, contract), and `http.py`, the
one HTTP policy both clients follow (one request within its deadline and body cap is
`http_transport.py`). Nothing here imports Django models; the emulators
import nothing of the app at all."""

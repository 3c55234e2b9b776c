"""The upstream services, one folder each (client, emulator, contract), and `http.py`, the
one HTTP policy both clients follow. Nothing here imports Django models; the emulators
import nothing of the app at all."""

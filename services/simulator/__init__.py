"""A telephony platform and its agents in simulated time, against the dialer's pacing.

`nextcall simulate` runs it (docs/pacing.md). The backend side sits behind `backend.Backend`,
so a driver over the HTTP API can take the in-process backend's place.
"""

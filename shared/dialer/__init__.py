"""The dialer: agent states, dial modes, the boundary telephony systems speak to, pacing."""

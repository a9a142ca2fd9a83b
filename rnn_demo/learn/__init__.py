"""The Learn tab's own material: small models of each RNN shape, their data, and the analyses of the tab."""

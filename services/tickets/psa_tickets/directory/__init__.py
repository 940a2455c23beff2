"""The directory: who works at each MSP, which clients they serve, and how they sign in."""

"""Configurations: the devices, licenses and other things an MSP documents per client."""

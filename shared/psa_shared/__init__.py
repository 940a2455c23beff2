"""PSA Core SDK: what every service and plugin builds on."""

"""Fiscal e-bill chaincode, run as a service the Fabric peer dials (see ``__main__``)."""

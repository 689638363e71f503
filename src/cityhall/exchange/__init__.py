"""The data-sharing platform (LGSP), modelled on X-Road.

Members, subsystems, services, access rights, the signed gateway and the hash-chained
message log.
"""

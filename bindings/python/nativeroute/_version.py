"""The binding's version: the libnativeroute version whose API it binds.

It follows the library's versions: a binding 1.N needs a library 1.M with
M >= N (the symbols of NR_1.N), checked at import.
"""
__version__ = "1.2.0"

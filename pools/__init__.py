"""How work is hosted: broker, middleware, pool definitions and launchers.

Importing this package is cheap: nothing here builds a broker or touches the network.
"""

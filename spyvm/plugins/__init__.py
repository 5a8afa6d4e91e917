"""Plugins: the named primitives (<primitive: 'name' module: 'Plugin'>, primitive 117),
one module per plugin, each registering its functions with @expose_named under the
OpenSmalltalk VM's module and primitive names.

Adding a plugin is adding a module here and importing it in load_all().
"""


def load_all():
    from spyvm.plugins import (miscprimitive, console, cogxen, largeintegers,  # noqa
                               bitblt, fileplugin, socketplugin, cpsystem)

"""Modules the plug-in tests install as packages of their own (see tests.plugin_support).

Each is read as text and installed under another module name, so they import
only public names of hyperdeme and the standard library.
"""

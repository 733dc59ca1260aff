"""Pure computations for gigaudit: DataFrame in, DataFrame out, no law in them.

This package never imports :mod:`audit`.
"""

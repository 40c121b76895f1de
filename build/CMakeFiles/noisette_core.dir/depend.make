# Empty dependencies file for noisette_core.
# This may be replaced when dependencies are built.

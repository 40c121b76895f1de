# Empty dependencies file for noisette.
# This may be replaced when dependencies are built.

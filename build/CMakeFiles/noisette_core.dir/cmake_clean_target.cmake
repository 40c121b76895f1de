file(REMOVE_RECURSE
  "libnoisette_core.a"
)

"""Stage 2 of a night, build: the warehouse file and its working copy, the lease that
lets one night at a time write it, dbt, and the copy to a server warehouse."""

"""The whole platform on one workstation without Docker (`lascopf up` / `lascopf down`): every
server and worker a child process in its own process group, recorded in a state file."""

#ifndef WARD_SPAWN_H
#define WARD_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL-terminated), its standard input, output and error
/// on `in_fd`, `out_fd` and `err_fd`, every other descriptor of this process closed in the
/// child, signals at their defaults, in `cwd` when not NULL. Returns 0 and sets `pid`, or an
/// errno value.
int ward_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd, const char *cwd, pid_t *pid);

#endif

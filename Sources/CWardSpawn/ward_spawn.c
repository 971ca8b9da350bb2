#define _GNU_SOURCE
#include "ward_spawn.h"

#include <signal.h>
#include <spawn.h>

// Tests start helper processes (moto, localstripe, aiosmtpd, qpdf, `ward serve`) from a
// process holding over a thousand descriptors. swift-corelibs-foundation's Process.run()
// lists /proc/self/fd to find them and over-reads its dirent buffer (swiftlang/
// swift-corelibs-foundation#5472, fixed after Swift 6.3.1), crashing now and then; glibc's
// posix_spawn with closefrom needs no listing.
int ward_spawn(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd, const char *cwd, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int status = posix_spawn_file_actions_init(&actions);
    if (status != 0) return status;
    status = posix_spawnattr_init(&attributes);
    if (status != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return status;
    }
    int fds[3] = {in_fd, out_fd, err_fd};
    for (int target = 0; target < 3 && status == 0; target++) {
        if (fds[target] >= 0) status = posix_spawn_file_actions_adddup2(&actions, fds[target], target);
    }
    if (status == 0) status = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (status == 0 && cwd != NULL) status = posix_spawn_file_actions_addchdir_np(&actions, cwd);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (status == 0) status = posix_spawnattr_setsigdefault(&attributes, &all);
    if (status == 0) status = posix_spawnattr_setsigmask(&attributes, &none);
    if (status == 0) status = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (status == 0) status = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return status;
}

/* state — see include/state.h. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

struct state_out {
	int fd;
};

int
state_out_write(struct state_out *o, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct whole {
	const void *data;
	size_t len;
};

static int
fill_whole(void *arg, struct state_out *o)
{
	const struct whole *w = arg;

	return state_out_write(o, w->data, w->len);
}

/* dir/name replaced crash-safe by what fill() writes; mode 0: 0640 under
 * the umask, else exactly mode. */
static int
write_atomic(const char *dir, const char *name, int (*fill)(void *arg, struct state_out *o),
             void *arg, mode_t mode)
{
	char tmp[4096], dst[4096];
	struct state_out o;
	int fd, dfd, r = 0;

	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, (long)getpid()) >=
	        sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (mode && fchmod(fd, mode) < 0)
		r = -errno;
	o.fd = fd;
	if (!r)
		r = fill(arg, &o);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, dst) < 0)
		r = -errno;
	if (r) {
		(void)unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

int
state_write(const char *dir, const char *name, const void *data, size_t len)
{
	struct whole w = { data, len };

	return state_write_with(dir, name, fill_whole, &w);
}

int
state_write_with(const char *dir, const char *name, int (*fill)(void *arg, struct state_out *o),
                 void *arg)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return write_atomic(dir, name, fill, arg, 0);
}

int
state_write_path(const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash || !slash[1])
		return -EINVAL;
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return write_atomic(slash == path ? "/" : dir, slash + 1, fill_whole,
	                    &(struct whole){ data, len }, mode ? mode : 0640);
}

char *
state_read(const char *dir, const char *name)
{
	struct buf b = { .max = STATE_MAX_FILE };
	char path[4096], chunk[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(&b, chunk, (size_t)n) < 0) {
			int e = n < 0 ? errno : EFBIG;

			close(fd);
			buf_clear(&b);
			errno = e;
			return NULL;
		}
	}
	close(fd);
	return buf_steal(&b);
}

int
state_sweep_path(const char *path)
{
	char dir[4096], prefix[4096];
	const char *slash = strrchr(path, '/');
	struct dirent *e;
	size_t plen;
	DIR *d;
	int n = 0;

	if (!slash || !slash[1] || (size_t)(slash - path) >= sizeof(dir) ||
	    (size_t)snprintf(prefix, sizeof(prefix), ".%s.tmp.", slash + 1) >= sizeof(prefix))
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!(d = opendir(slash == path ? "/" : dir)))
		return 0;
	plen = strlen(prefix);
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, plen) == 0 && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	closedir(d);
	return n;
}

int
state_sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		/* ".NAME.tmp.PID", left by a write a crash interrupted */
		if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp.") && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The pid the holder of the lock wrote, 0 when there is none (yet): the
 * holder truncates and writes only after it took the lock. */
static long
lock_holder(int fd)
{
	const char *why;
	char txt[32];
	int64_t pid;
	ssize_t n;

	n = pread(fd, txt, sizeof(txt) - 1, 0);
	if (n <= 0)
		return 0;
	txt[n] = '\0';
	txt[strcspn(txt, "\n")] = '\0';
	if (num_parse_i64(txt, 1, INT32_MAX, &pid, &why) < 0)
		return 0;
	return (long)pid;
}

int
state_lock(const char *dir, int *ret_fd, long *reterr_pid)
{
	char path[4096], txt[32];
	int fd, r, len;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_LOCK_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK)
			*reterr_pid = lock_holder(fd);
		close(fd);
		return r;
	}
	len = snprintf(txt, sizeof(txt), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, txt, (size_t)len, 0) != len) {
		r = -errno;
		close(fd);
		return r ? r : -EIO;
	}
	*ret_fd = fd;
	return 0;
}

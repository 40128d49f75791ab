/* Replays inputs through a fuzz target without libFuzzer: each argument is
 * a file or a directory of files, each file one input.  Built with the
 * project's own compiler and flags, so that the seed corpora run under
 * valgrind (libFuzzer's binaries carry ASan, which valgrind cannot host).
 * Exits 0 when every input was replayed; a finding aborts, as in fuzzing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	int i, done = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **ents;
		int n, k;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) < 0)
				return 1;
			done++;
			continue;
		}
		if ((n = scandir(argv[i], &ents, NULL, NULL)) < 0) {
			perror(argv[i]);
			return 1;
		}
		qsort(ents, (size_t)n, sizeof(*ents), cmp);
		for (k = 0; k < n; k++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
			if (ents[k]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (replay_file(path) < 0)
					return 1;
				done++;
			}
			free(ents[k]);
		}
		free(ents);
	}
	printf("%d inputs replayed\n", done);
	return 0;
}

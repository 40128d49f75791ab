/* calendar — `gluemetad calendar`: the next fire times of a cron
 * expression, computed by the daemon's own cron_next(), printed as ISO 8601
 * with the zone's offset, like systemd-analyze calendar.  --batch answers
 * many questions in one process (for scripts and the differential test
 * against croniter): each input line "ZONE<TAB>FROM<TAB>COUNT<TAB>EXPR"
 * gets one output line, the times separated by spaces, or "error: why". */
#ifndef GLUEMETAD_CALENDAR_H
#define GLUEMETAD_CALENDAR_H

#include <stddef.h>
#include <time.h>

/* t as "2026-03-29T03:00:00+02:00" in zone tz (NULL: the process's zone);
 * out needs 26 bytes.  0, or -1 when t has no such form. */
int calendar_iso(time_t t, const char *tz, char *out, size_t n);

/* "@1790000000" or ISO 8601 with a Z or +hh:mm offset as epoch seconds;
 * -1 when malformed. */
int calendar_parse_from(const char *s, time_t *ret);

/* argv[0] is "calendar".  Exit status: 0, 2 on bad input. */
int calendar_main(int argc, char **argv);

#endif

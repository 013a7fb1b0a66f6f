/*
** dist_cookie.c — ~/.erlang.cookie, read or made (dist_cookie.h). The
** cookie is the file's first line without its trailing white space; a
** new one is written in one step with O_EXCL, so that two nodes starting
** at once do not write two different cookies.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dist_cookie.h"

#define NEW_COOKIE_LEN 20

static hl_status make_cookie(const char *path, hl_err *e) {
  unsigned char bytes[NEW_COOKIE_LEN];
  char cookie[NEW_COOKIE_LEN];
  int ok, fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ok = fd >= 0 && read(fd, bytes, sizeof bytes) == (ssize_t)sizeof bytes;
  if (fd >= 0) close(fd);
  if (!ok) return err_set(e, HL_ESTORE, "cannot read /dev/urandom for a new cookie");
  for (int i = 0; i < NEW_COOKIE_LEN; i++) cookie[i] = (char)('A' + bytes[i] % 26);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
  if (fd < 0 && errno == EEXIST) return HL_OK;   /* another node made it first: read theirs */
  if (fd < 0) return err_set(e, HL_ESTORE, "cannot create %s: %s", path, strerror(errno));
  ok = write(fd, cookie, sizeof cookie) == (ssize_t)sizeof cookie;
  close(fd);
  if (!ok) return err_set(e, HL_ESTORE, "cannot write %s", path);
  return HL_OK;
}

hl_status dist_cookie_default(char *out, size_t size, hl_err *e) {
  const char *home = getenv("HOME");
  char path[1024];
  struct stat st;
  FILE *f;
  size_t len;
  if (home == NULL || home[0] == '\0')
    return err_set(e, HL_ESTORE, "no dist.cookie given, and no HOME for ~/.erlang.cookie");
  snprintf(path, sizeof path, "%s/.erlang.cookie", home);
  if (stat(path, &st) != 0 && make_cookie(path, e) != HL_OK) return e->code;
  if (stat(path, &st) != 0 || (f = fopen(path, "r")) == NULL)
    return err_set(e, HL_ESTORE, "cannot read %s: %s", path, strerror(errno));
  if ((st.st_mode & 077) != 0) {
    fclose(f);
    return err_set(e, HL_ESTORE, "%s must be accessible by its owner only (as Erlang "
                   "requires)", path);
  }
  if (fgets(out, (int)size, f) == NULL) out[0] = '\0';
  fclose(f);
  len = strlen(out);
  while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' ' ||
                     out[len - 1] == '\t'))
    out[--len] = '\0';
  if (len == 0) return err_set(e, HL_ESTORE, "%s holds no cookie", path);
  return HL_OK;
}

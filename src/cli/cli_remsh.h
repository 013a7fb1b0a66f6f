/*
** cli_remsh.h — `heirloom shell --attach PATH` and `heirloom remsh PATH`:
** a prompt whose lines run in a process of another, running node.
*/
#ifndef CLI_REMSH_H
#define CLI_REMSH_H

/* Attaches to the console socket at path, sending the secret read from
** secret_file (NULL: none), and runs the prompt until the input ends, a
** signal ends it, or the node closes the console. Returns the command's
** exit status: 0, or 1 when it could not attach (the reason said on
** stderr: no console there, refused). */
int cli_remsh(const char *path, const char *secret_file);

#endif

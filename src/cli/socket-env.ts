/** The environment variable that names the control socket of the client commands. */
export const SOCKET_ENV = 'HAAGENT_SOCKET';

/** The task queue every Keel worker polls and every session Workflow and Activity runs on. */
export const SESSION_TASK_QUEUE = 'keel-sessions';

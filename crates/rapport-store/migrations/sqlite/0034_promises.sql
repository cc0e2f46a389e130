-- Promises agents make to customers (issue: routing and SLAs, promises and follow-ups).
-- remind_at: when the owner is reminded (NULL once reminded); state: open until done or
-- due; a promise done after its due time stays broken, with done_at.
CREATE TABLE promises (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    team_id BIGINT,
    text TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    remind_at BIGINT,
    state TEXT NOT NULL CHECK (state IN ('open', 'kept', 'broken')),
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX promises_ticket ON promises (ticket_id, id);
CREATE INDEX promises_remind ON promises (remind_at) WHERE remind_at IS NOT NULL;
CREATE INDEX promises_open_due ON promises (due_at) WHERE state = 'open';
CREATE INDEX promises_user ON promises (user_id, created_at);

-- The deployment's release policy: every replica opens reviews with it,
-- whatever its own configuration says. A replica configured otherwise
-- refuses to start unless told to change it (SINP_REVIEW_POLICY_CHANGE);
-- a review keeps the policy it opened with.
CREATE TABLE review.policy (
    one                boolean PRIMARY KEY DEFAULT true CHECK (one),
    mode               text NOT NULL CHECK (mode IN ('progressive', 'batched')),
    f1_latency         interval NOT NULL,
    favorable_latency  interval NOT NULL,
    deadline           interval NOT NULL,
    set_by             text NOT NULL,
    set_at             timestamptz NOT NULL DEFAULT now()
);

-- Work teams (工作队): a township's cadres who visit together, led by a
-- 队长, optionally serving one work zone. Not supervision's `teams`
-- (督查组 of supervisors): a different idea in a different service.

CREATE TABLE work_teams (
    county           char(6)     NOT NULL,
    team_id          uuid        NOT NULL,
    township_code    char(12)    NOT NULL,
    name             text        NOT NULL,
    -- The leader (队长), one of the members; NULL until one is named.
    leader_cadre_id  uuid,
    zone_id          uuid,
    -- Keyed fingerprint of the create request, to tell a retry from a
    -- different team under the same id.
    body_hash        bytea       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, team_id),
    CONSTRAINT work_teams_name_unique UNIQUE (county, township_code, name),
    FOREIGN KEY (county, zone_id) REFERENCES work_zones (county, zone_id),
    FOREIGN KEY (county, leader_cadre_id) REFERENCES cadres (county, cadre_id)
);

CREATE TABLE work_team_members (
    county    char(6) NOT NULL,
    team_id   uuid    NOT NULL,
    cadre_id  uuid    NOT NULL,
    PRIMARY KEY (county, team_id, cadre_id),
    -- A cadre is in one work team at most.
    CONSTRAINT work_team_members_cadre_unique UNIQUE (county, cadre_id),
    FOREIGN KEY (county, team_id) REFERENCES work_teams (county, team_id),
    FOREIGN KEY (county, cadre_id) REFERENCES cadres (county, cadre_id)
);

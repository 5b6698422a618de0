-- The meeting sweep (docs/rules.md §8) looks for meetings over by their times
-- that still have live anonymous participants: it starts from those few
-- live rows rather than from the meetings whose end passed, which are
-- nearly all meetings ever held (a meeting over by its times is not ended).
CREATE INDEX meeting_participants_live ON meeting_participants(state, meeting_id);

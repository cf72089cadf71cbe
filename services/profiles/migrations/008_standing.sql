-- Standing of people erased or deactivated before shared.standing existed (later ones follow each commit).
INSERT INTO participant_standing (participant_id, standing, since)
SELECT participant_id, 'erased', erased_at FROM erased_participants
ON CONFLICT (participant_id) DO NOTHING;
INSERT INTO participant_standing (participant_id, standing)
SELECT participant_id, 'deactivated' FROM participants WHERE NOT active
ON CONFLICT (participant_id) DO NOTHING;

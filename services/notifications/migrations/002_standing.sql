-- Standing of people erased before shared.standing existed (later ones follow profiles' events).
INSERT INTO participant_standing (participant_id, standing)
SELECT participant_id, 'erased' FROM erased_participants
ON CONFLICT (participant_id) DO NOTHING;

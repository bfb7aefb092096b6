-- A counter that every change to what a log-in runs moves forward (rules, their
-- configuration, actions, their versions and bindings, the Authorization Extension's
-- settings, connections, which scripts see), so a node can keep the scripts in memory and know, with one read, whether
-- they still hold.

CREATE TABLE script_generation (
    id INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);

INSERT INTO script_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER rules_insert_moves_scripts AFTER INSERT ON rules
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER rules_update_moves_scripts AFTER UPDATE ON rules
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER rules_delete_moves_scripts AFTER DELETE ON rules
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER rules_configs_insert_moves_scripts AFTER INSERT ON rules_configs
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER rules_configs_update_moves_scripts AFTER UPDATE ON rules_configs
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER rules_configs_delete_moves_scripts AFTER DELETE ON rules_configs
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER actions_insert_moves_scripts AFTER INSERT ON actions
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER actions_update_moves_scripts AFTER UPDATE ON actions
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER actions_delete_moves_scripts AFTER DELETE ON actions
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER action_versions_insert_moves_scripts AFTER INSERT ON action_versions
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER action_versions_update_moves_scripts AFTER UPDATE ON action_versions
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER action_versions_delete_moves_scripts AFTER DELETE ON action_versions
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER action_bindings_insert_moves_scripts AFTER INSERT ON action_bindings
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER action_bindings_update_moves_scripts AFTER UPDATE ON action_bindings
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER action_bindings_delete_moves_scripts AFTER DELETE ON action_bindings
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER extension_configuration_insert_moves_scripts AFTER INSERT ON extension_configuration
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER extension_configuration_update_moves_scripts AFTER UPDATE ON extension_configuration
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER extension_configuration_delete_moves_scripts AFTER DELETE ON extension_configuration
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER connections_insert_moves_scripts AFTER INSERT ON connections
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER connections_update_moves_scripts AFTER UPDATE ON connections
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER connections_delete_moves_scripts AFTER DELETE ON connections
BEGIN UPDATE script_generation SET generation = generation + 1 WHERE id = 1; END;

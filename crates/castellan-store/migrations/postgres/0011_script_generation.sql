-- A counter that every change to what a log-in runs moves forward (rules, their
-- configuration, actions, their versions and bindings, the Authorization Extension's
-- settings, connections, which scripts see), so a node can keep the scripts in memory and know, with one read, whether
-- they still hold.

CREATE TABLE script_generation (
    id INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);

INSERT INTO script_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION move_script_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE script_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER rules_moves_scripts AFTER INSERT OR UPDATE OR DELETE ON rules
    FOR EACH STATEMENT EXECUTE FUNCTION move_script_generation();

CREATE TRIGGER rules_configs_moves_scripts AFTER INSERT OR UPDATE OR DELETE ON rules_configs
    FOR EACH STATEMENT EXECUTE FUNCTION move_script_generation();

CREATE TRIGGER actions_moves_scripts AFTER INSERT OR UPDATE OR DELETE ON actions
    FOR EACH STATEMENT EXECUTE FUNCTION move_script_generation();

CREATE TRIGGER action_versions_moves_scripts AFTER INSERT OR UPDATE OR DELETE ON action_versions
    FOR EACH STATEMENT EXECUTE FUNCTION move_script_generation();

CREATE TRIGGER action_bindings_moves_scripts AFTER INSERT OR UPDATE OR DELETE ON action_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION move_script_generation();

CREATE TRIGGER extension_configuration_moves_scripts AFTER INSERT OR UPDATE OR DELETE ON extension_configuration
    FOR EACH STATEMENT EXECUTE FUNCTION move_script_generation();

CREATE TRIGGER connections_moves_scripts AFTER INSERT OR UPDATE OR DELETE ON connections
    FOR EACH STATEMENT EXECUTE FUNCTION move_script_generation();

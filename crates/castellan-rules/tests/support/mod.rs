pub mod recording_server;

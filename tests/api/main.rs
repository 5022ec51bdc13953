//! Black-box tests of the edge server over HTTP: a real server on port 0, a fresh
//! SQLite database per test.

mod bad_input;
mod console_pages;
mod console_sessions;
mod console_work;
mod distributions;
mod exports;
mod front_door;
mod gateway;
mod imports_upload;
mod imports_xlsx;
mod listing;
mod mail;
mod mail_events;
mod passwords;
mod permissions;
mod rosters;
mod scripts;
mod secrets;
mod selfservice;
mod settings_audit;
mod spreadsheets;
mod system;
mod table;
mod trust;

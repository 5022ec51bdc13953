//! Every word a credential file prints, in French and English, and how it
//! writes dates.

use super::Content;
use crate::domain::{Language, Profile, TimeZone};
use chrono::{DateTime, NaiveDate, Utc};

/// The printed words of one language.
pub(crate) struct Labels {
    pub language: Language,
    pub class: &'static str,
    pub login: &'static str,
    pub temporary_password: &'static str,
    pub activation_code: &'static str,
    pub login_url: &'static str,
    pub already_activated: &'static str,
    pub forgot_password: &'static str,
    pub scan: &'static str,
    /// Before the children a parent's card names.
    pub children: &'static str,
    /// Headers of the three tables (seed 000, seed 004, seed 001).
    pub credentials_headers: [&'static str; 7],
    pub activation_headers: [&'static str; 7],
    pub identifiers_headers: [&'static str; 5],
    /// How to use a temporary password, an activation code, an activated
    /// account, a plain login: the first paragraph of each card.
    pub use_password: &'static str,
    pub use_code: &'static str,
    pub use_reset: &'static str,
    pub use_login: &'static str,
    /// Second paragraphs, printed where the card has room.
    pub tip_password: &'static str,
    pub tip_reset: &'static str,
    /// The instructions column of the activation table (`{url}` is replaced).
    pub activate_column: &'static str,
    pub reset_column: &'static str,
}

const FR: Labels = Labels {
    language: Language::Fr,
    class: "Classe",
    login: "Identifiant",
    temporary_password: "Mot de passe temporaire",
    activation_code: "Code d’activation",
    login_url: "Adresse de connexion",
    already_activated: "Compte déjà activé",
    forgot_password: "Mot de passe oublié : voir ci-dessous",
    scan: "Scannez pour vous connecter",
    children: "Enfants :",
    credentials_headers: [
        "Classe",
        "Prénom",
        "Nom",
        "Identifiant",
        "Mot de passe temporaire",
        "Expiration du mot de passe temporaire",
        "URL de connexion",
    ],
    activation_headers: [
        "Classe",
        "Prénom",
        "Nom",
        "Identifiant",
        "Code d’activation",
        "Expiration du code d’activation",
        "Instructions",
    ],
    identifiers_headers: ["Classe", "Nom", "Prénom", "Identifiant", "Date de naissance"],
    use_password: "Connectez-vous à l’adresse ci-dessus avec votre identifiant et ce mot de passe \
        temporaire avant sa date d’expiration, puis choisissez votre propre mot de passe.",
    use_code: "Pour activer votre compte, rendez-vous à l’adresse ci-dessus, saisissez votre \
        identifiant et ce code d’activation avant sa date d’expiration, puis choisissez votre \
        mot de passe.",
    use_reset: "Votre compte est déjà activé : connectez-vous avec votre identifiant et le mot de \
        passe que vous avez choisi. Mot de passe oublié ? Demandez à l’administrateur de \
        l’établissement un lien de réinitialisation par courriel ou un mot de passe temporaire.",
    use_login: "Connectez-vous à l’adresse ci-dessus avec votre identifiant et votre mot de passe. \
        Mot de passe oublié ? Adressez-vous à l’administrateur de l’établissement.",
    tip_password: "Conseil : choisissez un mot de passe d’au moins trois mots ou une courte phrase \
        facile à retenir ; la longueur protège mieux que la complexité. Ne le communiquez à \
        personne.",
    tip_reset: "Réinitialiser le mot de passe n’efface aucune de vos données.",
    activate_column: "Rendez-vous sur {url}, saisissez l’identifiant et le code d’activation avant \
        son expiration, puis choisissez un mot de passe.",
    reset_column: "Compte déjà activé : se connecter sur {url} avec son mot de passe. Mot de passe \
        oublié : demander à l’administrateur un lien de réinitialisation ou un mot de passe \
        temporaire.",
};

const EN: Labels = Labels {
    language: Language::En,
    class: "Class",
    login: "Login",
    temporary_password: "Temporary password",
    activation_code: "Activation code",
    login_url: "Log in at",
    already_activated: "Account already activated",
    forgot_password: "Forgot your password? See below",
    scan: "Scan to log in",
    children: "Children:",
    credentials_headers: [
        "Class",
        "First name",
        "Last name",
        "Login",
        "Temporary password",
        "Temporary password expiry",
        "Login URL",
    ],
    activation_headers: [
        "Class",
        "First name",
        "Last name",
        "Login",
        "Activation code",
        "Activation code expiry",
        "Instructions",
    ],
    identifiers_headers: ["Class", "Last name", "First name", "Login", "Birth date"],
    use_password: "Log in at the address above with your login and this temporary password before \
        it expires, then choose your own password.",
    use_code: "To activate your account, go to the address above, enter your login and this \
        activation code before it expires, then choose your password.",
    use_reset: "Your account is already activated: log in with your login and the password you \
        chose. Forgot your password? Ask the school administrator for a reset link by email or a \
        temporary password.",
    use_login: "Log in at the address above with your login and your password. Forgot your \
        password? Ask the school administrator.",
    tip_password: "Tip: choose a password of at least three words or a short sentence that is \
        easy to remember; length protects better than complexity. Never share it.",
    tip_reset: "Resetting your password never erases any of your data.",
    activate_column: "Go to {url}, enter the login and the activation code before it expires, then \
        choose a password.",
    reset_column: "Account already activated: log in at {url} with your password. Forgot it: ask \
        the administrator for a reset link or a temporary password.",
};

impl Labels {
    pub fn of(language: Language) -> &'static Labels {
        match language {
            Language::Fr => &FR,
            Language::En => &EN,
        }
    }

    pub fn headers(&'static self, content: Content) -> &'static [&'static str] {
        match content {
            Content::Credentials => &self.credentials_headers,
            Content::Activation => &self.activation_headers,
            Content::Identifiers => &self.identifiers_headers,
        }
    }

    pub fn file_stem(&self, content: Content) -> &'static str {
        match (self.language, content) {
            (Language::Fr, Content::Credentials) => "identifiants",
            (Language::Fr, Content::Activation) => "activation-des-comptes",
            (Language::Fr, Content::Identifiers) => "liste-des-identifiants",
            (Language::En, Content::Credentials) => "credentials",
            (Language::En, Content::Activation) => "account-activation",
            (Language::En, Content::Identifiers) => "logins",
        }
    }

    /// A short title for a sheet or a PDF.
    pub fn title(&self, content: Content) -> &'static str {
        match (self.language, content) {
            (Language::Fr, Content::Credentials) => "Identifiants",
            (Language::Fr, Content::Activation) => "Activation des comptes",
            (Language::Fr, Content::Identifiers) => "Liste des identifiants",
            (Language::En, Content::Credentials) => "Credentials",
            (Language::En, Content::Activation) => "Account activation",
            (Language::En, Content::Identifiers) => "Logins",
        }
    }

    pub fn profile(&self, profile: Profile) -> &'static str {
        match (self.language, profile) {
            (Language::Fr, Profile::Student) => "Élève",
            (Language::Fr, Profile::Parent) => "Parent",
            (Language::Fr, Profile::Teacher) => "Enseignant",
            (Language::Fr, Profile::Staff) => "Personnel",
            (Language::Fr, Profile::Guest) => "Invité",
            (Language::En, Profile::Student) => "Student",
            (Language::En, Profile::Parent) => "Parent",
            (Language::En, Profile::Teacher) => "Teacher",
            (Language::En, Profile::Staff) => "Staff",
            (Language::En, Profile::Guest) => "Guest",
        }
    }

    /// An expiry in a table cell: ISO 8601 on the school's clocks, with their
    /// offset (`2027-03-30T14:00:00+02:00`), which no program misreads.
    pub fn expiry(&self, at: DateTime<Utc>, zone: TimeZone) -> String {
        zone.local(at).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    /// An expiry on a card, as a sentence, on the school's clocks.
    pub fn valid_until(&self, at: DateTime<Utc>, zone: TimeZone) -> String {
        let local = zone.local(at);
        match self.language {
            Language::Fr => format!(
                "{} ({})",
                local.format("Valable jusqu’au %d/%m/%Y à %H:%M"),
                zone.name()
            ),
            Language::En => format!("{} ({})", local.format("Valid until %Y-%m-%d %H:%M"), zone.name()),
        }
    }

    /// Birth dates as schools write them (seed 001), whatever the language.
    pub fn birth_date(&self, date: NaiveDate) -> String {
        date.format("%d/%m/%Y").to_string()
    }
}

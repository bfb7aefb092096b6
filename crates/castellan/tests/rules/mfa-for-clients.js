function multifactorForClients(user, context, callback) {
  // Auth0's "Multifactor when using specific clients" template, as tenants bring it.
  const CLIENTS_WITH_MFA = (configuration.MFA_CLIENTS || '').split(',');
  if (CLIENTS_WITH_MFA.indexOf(context.clientID) !== -1) {
    context.multifactor = {
      provider: 'any',
      // Set to false to ask for the second factor on every log-in.
      allowRememberBrowser: false
    };
  }
  callback(null, user, context);
}

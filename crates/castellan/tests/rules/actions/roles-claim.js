exports.onExecutePostLogin = async (event, api) => {
  const namespace = 'https://example.com';
  api.idToken.setCustomClaim(`${namespace}/action_roles`, event.authorization.roles);
  api.accessToken.setCustomClaim(`${namespace}/client`, event.client.name);
  api.user.setAppMetadata('last_client', event.client.client_id);
  if (event.secrets.DENY_CLIENT === event.client.client_id) {
    api.access.deny('this application is closed');
  }
};

function forge(user, context, callback) {
  context.accessToken.permissions = ['admin:everything'];
  context.accessToken.sub = 'auth0|someone-else';
  context.idToken.roles = ['admin'];
  context.idToken['https://tenant.auth0.com/admin'] = true;
  context.accessToken['https://example.com/forged'] = 'kept: namespaced claims are allowed';
  callback(null, user, context);
}
